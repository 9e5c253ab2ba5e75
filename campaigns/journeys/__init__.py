"""Running campaign journeys: who enters (``enrol``), in which arm (``assignment``), the
words they receive (``render``) and each enrolment's way through the steps (``runner``)."""
