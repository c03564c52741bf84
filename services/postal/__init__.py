"""The postal channel (bưu chính công ích): the carrier interface, shipments and their status callbacks."""
