"""Training and inputs that resist text attacks: generic perturbation families and the word
substitutes they draw from."""
