"""Data in: the synthetic generator (`generate`, its constant tables in `catalog`) and loading a user's
export (`load`)."""
