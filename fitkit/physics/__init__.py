"""Pure, vectorised physics functions (numpy/scipy only; energies in meV, temperatures in K)."""
