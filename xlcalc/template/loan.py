def build_loan(ctx):
    pass
