"""The data contract between the toy and the analyses (DESIGN §3): binnings, the layouts of the
experiment files with their readers and writers, the measurement containers, the instrument
geometry as built, and the uncertainty categories."""
