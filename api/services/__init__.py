"""What the routes call: case upload, runs, decisions. No HTTP here beyond ApiError."""
