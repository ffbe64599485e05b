"""Side-by-side benchmarks on the exchange twin (targets: RESULTS.md); ``make bench`` runs them."""
