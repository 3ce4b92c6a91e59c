@0x903ce5294735b191;
using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("flowstone::schema");
struct Placeholder { x @0 :UInt8; }
