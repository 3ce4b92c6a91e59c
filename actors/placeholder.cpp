namespace flowstone::actors {}
