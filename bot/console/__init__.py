"""Console front end (`python -m bot ...`)."""
