"""The Flask app: SPARQL endpoint, browse pages, study pages. Reads the store; never harvests."""
