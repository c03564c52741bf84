"""The citizen's document wallet: papers kept once and reused, results filed on completion, shared by
single-use links, reminded before they expire; and the collector of stored bytes nobody refers to."""
