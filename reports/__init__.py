"""The annual written wealth report per customer (the "1" of 12-4-2-1): a PDF with
the customer's figures, suitable products and the approved disclosures."""
