"""Fees: online payments through the gateway (VNPay's protocol) and their receipts."""
