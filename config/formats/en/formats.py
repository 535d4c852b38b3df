"""English display formats: a date and time written out without a format (the admin's) names its zone.

"2025-01-15 11:00 CET": the time in the active zone, which is the store's (merchants.zones), and
the zone's abbreviation, so that nobody has to guess whether a time is local or UTC.
"""

DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
