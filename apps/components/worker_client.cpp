namespace flowstone::worker {}
