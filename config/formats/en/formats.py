# Notices to families spell the month out: "December 26, 2026", not "Dec. 26, 2026".
DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y, g:i a"
