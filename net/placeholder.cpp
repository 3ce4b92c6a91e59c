namespace flowstone::net {}
