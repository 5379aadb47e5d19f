"""The France Services network as the State publishes it.

``anct`` reads the official « Liste des structures France Services » (ANCT, data.gouv.fr) into the
catalogue's ``sites`` table; ``hours`` reads the opening hours it publishes day by day.
"""
