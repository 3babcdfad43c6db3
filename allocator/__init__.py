"""The optimisation core: eligibility, exact allocation, explanations."""
