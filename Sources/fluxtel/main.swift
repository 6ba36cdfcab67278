print("fluxtel")
