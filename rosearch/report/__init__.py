"""Study reports: Pareto plots, hypervolume, parameter importance, architecture statistics and pictures."""
