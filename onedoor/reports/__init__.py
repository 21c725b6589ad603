"""研判会: the weekly analysis report of a township or county, built from the register."""
