"""The province's map: agencies, procedures and groups, the catalog's administration and seed."""
