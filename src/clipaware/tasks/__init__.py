"""One module per thing a user asks. Tasks take Python values and return small frozen results."""
