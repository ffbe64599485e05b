"""Side-by-side benchmarks on the exchange twin (design.md section 7); ``make bench`` runs them."""
