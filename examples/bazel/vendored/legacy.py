# Python 2 only: vendored from an old wheel, never imported on Python 3.
def report(value):
    print "value:", value
