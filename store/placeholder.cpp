namespace flowstone::store {}
