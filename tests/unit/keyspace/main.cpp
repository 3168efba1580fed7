#define BOOST_TEST_MODULE keyspace
#include <boost/test/unit_test.hpp>
