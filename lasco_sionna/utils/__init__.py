"""Small shared utilities: input validation, atomic file writes"""
