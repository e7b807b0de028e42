"""Data in: the synthetic generator (`generate`, its constant tables in `constants`) and loading a user's
export (`load`)."""
