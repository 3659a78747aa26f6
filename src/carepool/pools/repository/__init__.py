"""The capability's database access: nothing above these modules knows how rows are stored."""
