# Python 2 only (vendored from an old release of a dependency).
def report(text):
    print "tinyweather:", text
