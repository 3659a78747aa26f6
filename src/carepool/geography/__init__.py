"""Geography: Health and Wellbeing Board areas, councils, commissioners, populations by year."""
