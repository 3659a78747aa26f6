"""The files the substitution check reads, as published: NHS Digital's adult social care
finance returns and HM Treasury's GDP deflators."""
