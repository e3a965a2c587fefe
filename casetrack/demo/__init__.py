"""The demo town of Beihe: ``flask demo load`` (see ``casetrack.demo.cli``)."""
