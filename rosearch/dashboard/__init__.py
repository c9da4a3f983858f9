"""What optuna-dashboard shows: trial notes and artifacts (published from structured trial
records, rosearch.dashboard.publish), and the server (rosearch.dashboard.serve).

Import the submodules directly: publishing needs torch and transformers, checking a port does not.
"""
