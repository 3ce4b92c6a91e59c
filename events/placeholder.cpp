namespace flowstone::domain {}
