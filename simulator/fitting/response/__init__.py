"""A touch's response from a randomised test: read the test, estimate lifts, map to parameters.

`experiment_file` reads and checks the CSV, `estimate` compares each arm with the control (delta
method), `mapping` turns window outcomes into the model's per-contact-day parameters, and
`calibrate.fit_response` puts them together and writes an assumptions file
(`scenario.assumptions`) for `promosim calibrate response`.
"""
