"""One router per area of the site, each with its access dependencies (listserv.web.access)."""
