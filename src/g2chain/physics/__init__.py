"""First-principles physics that holds in the real world, so that the toy and the analysis may both use it
(DESIGN §3, "What the toy and the analysis may share"): ring optics and frequencies, the multipole basis,
the Michel spectrum, the shapes of field transients."""
