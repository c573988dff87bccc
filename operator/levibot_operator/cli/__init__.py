"""The kubectl plugin (``kubectl levibot``) and the tables it prints.

Layer: entry (a separate process). Reads through kubectl; uses the core only to parse status.
"""
