"""Profiles as people write them: the YAML codec (``yaml_codec``) and the
static validation of a profile (``validation``)."""
