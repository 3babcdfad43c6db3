"""Reading and writing files: case folders and workbooks in, run outputs out."""
