"""Master catalog, store assortment and the stock ledger (built in the catalog issue)."""
