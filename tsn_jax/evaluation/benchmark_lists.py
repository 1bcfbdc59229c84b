"""The sequence lists of the benchmarks, written out (nothing is downloaded at run time).

Sources, each the benchmark's own toolkit (``tests/layouts_test.py`` compares them with the
copies the got10k toolkit ships, where it has one):

* OTB-2013 (51 targets in 50 folders), TB-50 (50 targets in 49 folders) and OTB-100 (100
  targets in 98 folders): the folder lists of the OTB toolkit's ``configSeqs`` (Wu et al.,
  TPAMI 2015). Jogging and Skating2 hold two targets each; ``layouts`` splits them.
* UAV123 and UAV20L: ``configSeqs.m`` of the UAV123 toolkit (Mueller et al., ECCV 2016), each
  sequence's frame folder under ``data_seq/UAV123/`` and its 1-based inclusive frame range;
  several sequences are frame ranges of one folder (``bird1_1``, ``bird1_2``, ``bird1_3`` in
  ``bird1``). UAV123@10fps: ``configSeqs.m`` of the UAV123_10fps download; each of its ranges
  is the 30 fps range with every third frame kept (30 fps frame ``k`` is 10 fps frame
  ``(k - 1) // 3 + 1``), which the test checks.
* LaSOT: the 280 sequences of the test split (Fan et al., CVPR 2019; ``testing_set.txt`` of the
  LaSOT toolkit), in its order.
"""

# OTB folder names (a folder per video; Jogging and Skating2 hold two targets each).
OTB2013 = tuple(
    """
    Basketball Bolt Boy Car4 CarDark CarScale Coke Couple Crossing David David2 David3 Deer
    Dog1 Doll Dudek FaceOcc1 FaceOcc2 Fish FleetFace Football Football1 Freeman1 Freeman3
    Freeman4 Girl Ironman Jogging Jumping Lemming Liquor Matrix Mhyang MotorRolling
    MountainBike Shaking Singer1 Singer2 Skating1 Skiing Soccer Subway Suv Sylvester Tiger1
    Tiger2 Trellis Walking Walking2 Woman
    """.split()
)
TB50 = tuple(
    """
    Basketball Biker Bird1 BlurBody BlurCar2 BlurFace BlurOwl Bolt Box Car1 Car4 CarDark
    CarScale ClifBar Couple Crowds David Deer Diving DragonBaby Dudek Football Freeman4 Girl
    Human3 Human4 Human6 Human9 Ironman Jump Jumping Liquor Matrix MotorRolling Panda
    RedTeam Shaking Singer2 Skating1 Skating2 Skiing Soccer Surfer Sylvester Tiger2 Trellis
    Walking Walking2 Woman
    """.split()
)
OTB100 = TB50 + tuple(
    """
    Bird2 BlurCar1 BlurCar3 BlurCar4 Board Bolt2 Boy Car2 Car24 Coke Coupon Crossing Dancer
    Dancer2 David2 David3 Dog Dog1 Doll FaceOcc1 FaceOcc2 Fish FleetFace Football1 Freeman1
    Freeman3 Girl2 Gym Human2 Human5 Human7 Human8 Jogging KiteSurf Lemming Man Mhyang
    MountainBike Rubik Singer1 Skater Skater2 Subway Suv Tiger1 Toy Trans Twinnings Vase
    """.split()
)

# {sequence: (folder under data_seq/UAV123/, first frame, last frame)}, 1-based inclusive.
UAV123 = {
    "bike1": ("bike1", 1, 3085),
    "bike2": ("bike2", 1, 553),
    "bike3": ("bike3", 1, 433),
    "bird1_1": ("bird1", 1, 253),
    "bird1_2": ("bird1", 775, 1477),
    "bird1_3": ("bird1", 1573, 2437),
    "boat1": ("boat1", 1, 901),
    "boat2": ("boat2", 1, 799),
    "boat3": ("boat3", 1, 901),
    "boat4": ("boat4", 1, 553),
    "boat5": ("boat5", 1, 505),
    "boat6": ("boat6", 1, 805),
    "boat7": ("boat7", 1, 535),
    "boat8": ("boat8", 1, 685),
    "boat9": ("boat9", 1, 1399),
    "building1": ("building1", 1, 469),
    "building2": ("building2", 1, 577),
    "building3": ("building3", 1, 829),
    "building4": ("building4", 1, 787),
    "building5": ("building5", 1, 481),
    "car1_1": ("car1", 1, 751),
    "car1_2": ("car1", 751, 1627),
    "car1_3": ("car1", 1627, 2629),
    "car2": ("car2", 1, 1321),
    "car3": ("car3", 1, 1717),
    "car4": ("car4", 1, 1345),
    "car5": ("car5", 1, 745),
    "car6_1": ("car6", 1, 487),
    "car6_2": ("car6", 487, 1807),
    "car6_3": ("car6", 1807, 2953),
    "car6_4": ("car6", 2953, 3925),
    "car6_5": ("car6", 3925, 4861),
    "car7": ("car7", 1, 1033),
    "car8_1": ("car8", 1, 1357),
    "car8_2": ("car8", 1357, 2575),
    "car9": ("car9", 1, 1879),
    "car10": ("car10", 1, 1405),
    "car11": ("car11", 1, 337),
    "car12": ("car12", 1, 499),
    "car13": ("car13", 1, 415),
    "car14": ("car14", 1, 1327),
    "car15": ("car15", 1, 469),
    "car16_1": ("car16", 1, 415),
    "car16_2": ("car16", 415, 1993),
    "car17": ("car17", 1, 1057),
    "car18": ("car18", 1, 1207),
    "group1_1": ("group1", 1, 1333),
    "group1_2": ("group1", 1333, 2515),
    "group1_3": ("group1", 2515, 3925),
    "group1_4": ("group1", 3925, 4873),
    "group2_1": ("group2", 1, 907),
    "group2_2": ("group2", 907, 1771),
    "group2_3": ("group2", 1771, 2683),
    "group3_1": ("group3", 1, 1567),
    "group3_2": ("group3", 1567, 2827),
    "group3_3": ("group3", 2827, 4369),
    "group3_4": ("group3", 4369, 5527),
    "person1": ("person1", 1, 799),
    "person2_1": ("person2", 1, 1189),
    "person2_2": ("person2", 1189, 2623),
    "person3": ("person3", 1, 643),
    "person4_1": ("person4", 1, 1501),
    "person4_2": ("person4", 1501, 2743),
    "person5_1": ("person5", 1, 877),
    "person5_2": ("person5", 877, 2101),
    "person6": ("person6", 1, 901),
    "person7_1": ("person7", 1, 1249),
    "person7_2": ("person7", 1249, 2065),
    "person8_1": ("person8", 1, 1075),
    "person8_2": ("person8", 1075, 1525),
    "person9": ("person9", 1, 661),
    "person10": ("person10", 1, 1021),
    "person11": ("person11", 1, 721),
    "person12_1": ("person12", 1, 601),
    "person12_2": ("person12", 601, 1621),
    "person13": ("person13", 1, 883),
    "person14_1": ("person14", 1, 847),
    "person14_2": ("person14", 847, 1813),
    "person14_3": ("person14", 1813, 2923),
    "person15": ("person15", 1, 1339),
    "person16": ("person16", 1, 1147),
    "person17_1": ("person17", 1, 1501),
    "person17_2": ("person17", 1501, 2347),
    "person18": ("person18", 1, 1393),
    "person19_1": ("person19", 1, 1243),
    "person19_2": ("person19", 1243, 2791),
    "person19_3": ("person19", 2791, 4357),
    "person20": ("person20", 1, 1783),
    "person21": ("person21", 1, 487),
    "person22": ("person22", 1, 199),
    "person23": ("person23", 1, 397),
    "truck1": ("truck1", 1, 463),
    "truck2": ("truck2", 1, 385),
    "truck3": ("truck3", 1, 535),
    "truck4_1": ("truck4", 1, 577),
    "truck4_2": ("truck4", 577, 1261),
    "uav1_1": ("uav1", 1, 1555),
    "uav1_2": ("uav1", 1555, 2377),
    "uav1_3": ("uav1", 2473, 3469),
    "uav2": ("uav2", 1, 133),
    "uav3": ("uav3", 1, 265),
    "uav4": ("uav4", 1, 157),
    "uav5": ("uav5", 1, 139),
    "uav6": ("uav6", 1, 109),
    "uav7": ("uav7", 1, 373),
    "uav8": ("uav8", 1, 301),
    "wakeboard1": ("wakeboard1", 1, 421),
    "wakeboard2": ("wakeboard2", 1, 733),
    "wakeboard3": ("wakeboard3", 1, 823),
    "wakeboard4": ("wakeboard4", 1, 697),
    "wakeboard5": ("wakeboard5", 1, 1675),
    "wakeboard6": ("wakeboard6", 1, 1165),
    "wakeboard7": ("wakeboard7", 1, 199),
    "wakeboard8": ("wakeboard8", 1, 1543),
    "wakeboard9": ("wakeboard9", 1, 355),
    "wakeboard10": ("wakeboard10", 1, 469),
    "car1_s": ("car1_s", 1, 1475),
    "car2_s": ("car2_s", 1, 320),
    "car3_s": ("car3_s", 1, 1300),
    "car4_s": ("car4_s", 1, 830),
    "person1_s": ("person1_s", 1, 1600),
    "person2_s": ("person2_s", 1, 250),
    "person3_s": ("person3_s", 1, 505),
}

# {sequence: (folder under data_seq/UAV123/, first frame, last frame)}: the 20 long videos whole.
UAV20L = {
    "bike1": ("bike1", 1, 3085),
    "bird1": ("bird1", 1, 2437),
    "car1": ("car1", 1, 2629),
    "car3": ("car3", 1, 1717),
    "car6": ("car6", 1, 4861),
    "car8": ("car8", 1, 2575),
    "car9": ("car9", 1, 1879),
    "car16": ("car16", 1, 1993),
    "group1": ("group1", 1, 4873),
    "group2": ("group2", 1, 2683),
    "group3": ("group3", 1, 5527),
    "person2": ("person2", 1, 2623),
    "person4": ("person4", 1, 2743),
    "person5": ("person5", 1, 2101),
    "person7": ("person7", 1, 2065),
    "person14": ("person14", 1, 2923),
    "person17": ("person17", 1, 2347),
    "person19": ("person19", 1, 4357),
    "person20": ("person20", 1, 1783),
    "uav1": ("uav1", 1, 3469),
}

# {sequence: (folder under data_seq/UAV123_10fps/, first frame, last frame)}.
UAV123_10FPS = {
    "bike1": ("bike1", 1, 1029),
    "bike2": ("bike2", 1, 185),
    "bike3": ("bike3", 1, 145),
    "bird1_1": ("bird1", 1, 85),
    "bird1_2": ("bird1", 259, 493),
    "bird1_3": ("bird1", 525, 813),
    "boat1": ("boat1", 1, 301),
    "boat2": ("boat2", 1, 267),
    "boat3": ("boat3", 1, 301),
    "boat4": ("boat4", 1, 185),
    "boat5": ("boat5", 1, 169),
    "boat6": ("boat6", 1, 269),
    "boat7": ("boat7", 1, 179),
    "boat8": ("boat8", 1, 229),
    "boat9": ("boat9", 1, 467),
    "building1": ("building1", 1, 157),
    "building2": ("building2", 1, 193),
    "building3": ("building3", 1, 277),
    "building4": ("building4", 1, 263),
    "building5": ("building5", 1, 161),
    "car1_1": ("car1", 1, 251),
    "car1_2": ("car1", 251, 543),
    "car1_3": ("car1", 543, 877),
    "car2": ("car2", 1, 441),
    "car3": ("car3", 1, 573),
    "car4": ("car4", 1, 449),
    "car5": ("car5", 1, 249),
    "car6_1": ("car6", 1, 163),
    "car6_2": ("car6", 163, 603),
    "car6_3": ("car6", 603, 985),
    "car6_4": ("car6", 985, 1309),
    "car6_5": ("car6", 1309, 1621),
    "car7": ("car7", 1, 345),
    "car8_1": ("car8", 1, 453),
    "car8_2": ("car8", 453, 859),
    "car9": ("car9", 1, 627),
    "car10": ("car10", 1, 469),
    "car11": ("car11", 1, 113),
    "car12": ("car12", 1, 167),
    "car13": ("car13", 1, 139),
    "car14": ("car14", 1, 443),
    "car15": ("car15", 1, 157),
    "car16_1": ("car16", 1, 139),
    "car16_2": ("car16", 139, 665),
    "car17": ("car17", 1, 353),
    "car18": ("car18", 1, 403),
    "group1_1": ("group1", 1, 445),
    "group1_2": ("group1", 445, 839),
    "group1_3": ("group1", 839, 1309),
    "group1_4": ("group1", 1309, 1625),
    "group2_1": ("group2", 1, 303),
    "group2_2": ("group2", 303, 591),
    "group2_3": ("group2", 591, 895),
    "group3_1": ("group3", 1, 523),
    "group3_2": ("group3", 523, 943),
    "group3_3": ("group3", 943, 1457),
    "group3_4": ("group3", 1457, 1843),
    "person1": ("person1", 1, 267),
    "person2_1": ("person2", 1, 397),
    "person2_2": ("person2", 397, 875),
    "person3": ("person3", 1, 215),
    "person4_1": ("person4", 1, 501),
    "person4_2": ("person4", 501, 915),
    "person5_1": ("person5", 1, 293),
    "person5_2": ("person5", 293, 701),
    "person6": ("person6", 1, 301),
    "person7_1": ("person7", 1, 417),
    "person7_2": ("person7", 417, 689),
    "person8_1": ("person8", 1, 359),
    "person8_2": ("person8", 359, 509),
    "person9": ("person9", 1, 221),
    "person10": ("person10", 1, 341),
    "person11": ("person11", 1, 241),
    "person12_1": ("person12", 1, 201),
    "person12_2": ("person12", 201, 541),
    "person13": ("person13", 1, 295),
    "person14_1": ("person14", 1, 283),
    "person14_2": ("person14", 283, 605),
    "person14_3": ("person14", 605, 975),
    "person15": ("person15", 1, 447),
    "person16": ("person16", 1, 383),
    "person17_1": ("person17", 1, 501),
    "person17_2": ("person17", 501, 783),
    "person18": ("person18", 1, 465),
    "person19_1": ("person19", 1, 415),
    "person19_2": ("person19", 415, 931),
    "person19_3": ("person19", 931, 1453),
    "person20": ("person20", 1, 595),
    "person21": ("person21", 1, 163),
    "person22": ("person22", 1, 67),
    "person23": ("person23", 1, 133),
    "truck1": ("truck1", 1, 155),
    "truck2": ("truck2", 1, 129),
    "truck3": ("truck3", 1, 179),
    "truck4_1": ("truck4", 1, 193),
    "truck4_2": ("truck4", 193, 421),
    "uav1_1": ("uav1", 1, 519),
    "uav1_2": ("uav1", 519, 793),
    "uav1_3": ("uav1", 825, 1157),
    "uav2": ("uav2", 1, 45),
    "uav3": ("uav3", 1, 89),
    "uav4": ("uav4", 1, 53),
    "uav5": ("uav5", 1, 47),
    "uav6": ("uav6", 1, 37),
    "uav7": ("uav7", 1, 125),
    "uav8": ("uav8", 1, 101),
    "wakeboard1": ("wakeboard1", 1, 141),
    "wakeboard2": ("wakeboard2", 1, 245),
    "wakeboard3": ("wakeboard3", 1, 275),
    "wakeboard4": ("wakeboard4", 1, 233),
    "wakeboard5": ("wakeboard5", 1, 559),
    "wakeboard6": ("wakeboard6", 1, 389),
    "wakeboard7": ("wakeboard7", 1, 67),
    "wakeboard8": ("wakeboard8", 1, 515),
    "wakeboard9": ("wakeboard9", 1, 119),
    "wakeboard10": ("wakeboard10", 1, 157),
    "car1_s": ("car1_s", 1, 492),
    "car2_s": ("car2_s", 1, 107),
    "car3_s": ("car3_s", 1, 434),
    "car4_s": ("car4_s", 1, 277),
    "person1_s": ("person1_s", 1, 534),
    "person2_s": ("person2_s", 1, 84),
    "person3_s": ("person3_s", 1, 169),
}

LASOT_TEST = tuple(
    """
    airplane-1 airplane-9 airplane-13 airplane-15 basketball-1 basketball-6 basketball-7
    basketball-11 bear-2 bear-4 bear-6 bear-17 bicycle-2 bicycle-7 bicycle-9 bicycle-18
    bird-2 bird-3 bird-15 bird-17 boat-3 boat-4 boat-12 boat-17 book-3 book-10 book-11
    book-19 bottle-1 bottle-12 bottle-14 bottle-18 bus-2 bus-5 bus-17 bus-19 car-2 car-6
    car-9 car-17 cat-1 cat-3 cat-18 cat-20 cattle-2 cattle-7 cattle-12 cattle-13 spider-14
    spider-16 spider-18 spider-20 coin-3 coin-6 coin-7 coin-18 crab-3 crab-6 crab-12 crab-18
    surfboard-12 surfboard-4 surfboard-5 surfboard-8 cup-1 cup-4 cup-7 cup-17 deer-4 deer-8
    deer-10 deer-14 dog-1 dog-7 dog-15 dog-19 guitar-3 guitar-8 guitar-10 guitar-16 person-1
    person-5 person-10 person-12 pig-2 pig-10 pig-13 pig-18 rubicCube-1 rubicCube-6
    rubicCube-14 rubicCube-19 swing-10 swing-14 swing-17 swing-20 drone-13 drone-15 drone-2
    drone-7 pool-12 pool-15 pool-3 pool-7 rabbit-10 rabbit-13 rabbit-17 rabbit-19 racing-10
    racing-15 racing-16 racing-20 robot-1 robot-19 robot-5 robot-8 sepia-13 sepia-16 sepia-6
    sepia-8 sheep-3 sheep-5 sheep-7 sheep-9 skateboard-16 skateboard-19 skateboard-3
    skateboard-8 tank-14 tank-16 tank-6 tank-9 tiger-12 tiger-18 tiger-4 tiger-6 train-1
    train-11 train-20 train-7 truck-16 truck-3 truck-6 truck-7 turtle-16 turtle-5 turtle-8
    turtle-9 umbrella-17 umbrella-19 umbrella-2 umbrella-9 yoyo-15 yoyo-17 yoyo-19 yoyo-7
    zebra-10 zebra-14 zebra-16 zebra-17 elephant-1 elephant-12 elephant-16 elephant-18
    goldfish-3 goldfish-7 goldfish-8 goldfish-10 hat-1 hat-2 hat-5 hat-18 kite-4 kite-6
    kite-10 kite-15 motorcycle-1 motorcycle-3 motorcycle-9 motorcycle-18 mouse-1 mouse-8
    mouse-9 mouse-17 flag-3 flag-9 flag-5 flag-2 frog-3 frog-4 frog-20 frog-9 gametarget-1
    gametarget-2 gametarget-7 gametarget-13 hand-2 hand-3 hand-9 hand-16 helmet-5 helmet-11
    helmet-19 helmet-13 licenseplate-6 licenseplate-12 licenseplate-13 licenseplate-15
    electricfan-1 electricfan-10 electricfan-18 electricfan-20 chameleon-3 chameleon-6
    chameleon-11 chameleon-20 crocodile-3 crocodile-4 crocodile-10 crocodile-14 gecko-1
    gecko-5 gecko-16 gecko-19 fox-2 fox-3 fox-5 fox-20 giraffe-2 giraffe-10 giraffe-13
    giraffe-15 gorilla-4 gorilla-6 gorilla-9 gorilla-13 hippo-1 hippo-7 hippo-9 hippo-20
    horse-1 horse-4 horse-12 horse-15 kangaroo-2 kangaroo-5 kangaroo-11 kangaroo-14
    leopard-1 leopard-7 leopard-16 leopard-20 lion-1 lion-5 lion-12 lion-20 lizard-1
    lizard-3 lizard-6 lizard-13 microphone-2 microphone-6 microphone-14 microphone-16
    monkey-3 monkey-4 monkey-9 monkey-17 shark-2 shark-3 shark-5 shark-6 squirrel-8
    squirrel-11 squirrel-13 squirrel-19 volleyball-1 volleyball-13 volleyball-18
    volleyball-19
    """.split()
)
