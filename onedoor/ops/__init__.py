"""Operations: setting up Temporal and the register, and the embedded one-machine stack."""
