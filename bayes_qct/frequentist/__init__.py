"""The paper's frequentist analyses, reproduced as it computed them, and the audit."""
