"""What the project writes for people from the built marts (the HTML report)."""
