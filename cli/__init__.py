"""The `allocator` command: parses arguments and calls the functions the HTTP service calls."""
