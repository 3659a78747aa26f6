"""The substitution check: councils' own adult social care spend against the NHS money
transferred to them, in real terms, from NHS Digital's published finance returns."""
