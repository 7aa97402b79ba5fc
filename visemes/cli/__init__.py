"""The ``visemes`` command line: a thin layer over the library functions."""
