"""Running the container image and compose.yaml beside the fakes (`drive.py`)."""
