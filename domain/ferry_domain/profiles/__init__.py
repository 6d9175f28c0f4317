"""Profiles as people write them: the YAML codec (``yaml_codec``), structural
validation (``validation``) and the duration syntax they share (``durations``)."""
