"""The generator's constant tables: thelook's figures and vocabularies, and the marketing platforms'
economics (ecom.data.generate's docstring explains each figure)."""

from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Reference data (thelook's figures)
# ---------------------------------------------------------------------------------------------

ORDERS_PER_USER = ((0, 1, 2, 3, 4), (0.2, 0.5, 0.2, 0.05, 0.05))
ITEMS_PER_ORDER = ((1, 2, 3, 4), (0.7, 0.2, 0.05, 0.05))
STATUSES = ("Complete", "Cancelled", "Returned", "Processing", "Shipped")
STATUS_WEIGHTS = (0.25, 0.15, 0.10, 0.20, 0.30)
# which of shipped/delivered/returned each status has reached
STATUS_REACHES = {
    "Complete": (True, True, False),
    "Cancelled": (False, False, False),
    "Returned": (True, True, True),
    "Processing": (False, False, False),
    "Shipped": (True, False, False),
}
EVENT_SOURCES = ("Email", "Adwords", "YouTube", "Facebook", "Organic")
EVENT_SOURCE_WEIGHTS = (0.45, 0.30, 0.10, 0.10, 0.05)
BROWSERS = ("Chrome", "Safari", "Firefox", "IE", "Other")
BROWSER_WEIGHTS = (0.5, 0.2, 0.2, 0.05, 0.05)
USER_SOURCES = ("Search", "Organic", "Facebook", "Email", "Display")
USER_SOURCE_WEIGHTS = (0.70, 0.15, 0.06, 0.05, 0.04)
EVENT_TYPES = ("home", "department", "product", "cart", "purchase", "cancel")
ANON_SESSIONS_PER_USER = 5
ANON_LENGTHS = ((1, 2, 3), (0.25, 0.25, 0.5))

# (department, category, products, cost ratio low end, mean and sd of log retail price), in
# thelook's product-id order
CATEGORIES = (
    ("Women", "Tops & Tees", 784, 0.51, 3.41, 0.73),
    ("Women", "Sweaters", 738, 0.40, 3.99, 0.77),
    ("Women", "Fashion Hoodies & Sweatshirts", 895, 0.42, 3.75, 0.55),
    ("Women", "Active", 679, 0.37, 3.59, 0.79),
    ("Women", "Dresses", 955, 0.40, 4.03, 0.94),
    ("Women", "Jumpsuits & Rompers", 162, 0.48, 3.34, 0.90),
    ("Women", "Jeans", 882, 0.49, 4.33, 0.66),
    ("Women", "Pants & Capris", 613, 0.48, 3.74, 0.68),
    ("Women", "Leggings", 564, 0.55, 2.96, 0.76),
    ("Women", "Shorts", 826, 0.45, 3.47, 0.68),
    ("Women", "Skirts", 367, 0.35, 3.62, 0.77),
    ("Women", "Blazers & Jackets", 561, 0.33, 4.01, 1.08),
    ("Women", "Clothing Sets", 37, 0.57, 4.31, 0.54),
    ("Women", "Suits", 188, 0.55, 4.63, 0.57),
    ("Women", "Outerwear & Coats", 592, 0.40, 4.66, 0.76),
    ("Women", "Socks & Hosiery", 666, 0.35, 2.68, 0.52),
    ("Women", "Sleep & Lounge", 830, 0.55, 3.66, 0.66),
    ("Women", "Intimates", 2363, 0.48, 3.29, 0.68),
    ("Women", "Swim", 892, 0.37, 3.99, 0.64),
    ("Women", "Accessories", 739, 0.35, 3.21, 1.09),
    ("Women", "Maternity", 898, 0.39, 3.72, 0.64),
    ("Women", "Plus", 758, 0.45, 3.22, 0.90),
    ("Men", "Tops & Tees", 1084, 0.51, 3.57, 0.56),
    ("Men", "Fashion Hoodies & Sweatshirts", 971, 0.50, 3.94, 0.49),
    ("Men", "Active", 753, 0.37, 3.57, 0.70),
    ("Men", "Sweaters", 999, 0.45, 4.14, 0.66),
    ("Men", "Suits & Sport Coats", 739, 0.35, 4.53, 0.84),
    ("Men", "Jeans", 1117, 0.48, 4.41, 0.66),
    ("Men", "Pants", 1041, 0.41, 3.92, 0.60),
    ("Men", "Shorts", 939, 0.45, 3.76, 0.50),
    ("Men", "Outerwear & Coats", 828, 0.39, 4.72, 0.73),
    ("Men", "Socks", 905, 0.55, 2.80, 0.52),
    ("Men", "Underwear", 1088, 0.42, 3.21, 0.40),
    ("Men", "Sleep & Lounge", 941, 0.35, 3.67, 0.65),
    ("Men", "Swim", 906, 0.55, 3.82, 0.44),
    ("Men", "Accessories", 820, 0.35, 3.27, 0.96),
)
NULL_BRANDS, NULL_NAMES = 24, 2

BRANDS = (
    "Calvin Klein",
    "Carhartt",
    "Hanes",
    "Volcom",
    "Nautica",
    "Levi's",
    "Quiksilver",
    "Tommy Hilfiger",
    "Columbia",
    "Hurley",
    "Dockers",
    "Diesel",
    "Speedo",
    "American Apparel",
    "Wrangler",
    "Champion",
    "7 For All Mankind",
    "Lucky Brand",
    "Dickies",
    "SmartWool",
    "O'Neill",
    "Jones New York",
    "DC",
    "Roxy",
    "True Religion",
    "Fox",
    "Fruit of the Loom",
    "Allegra K",
    "Motherhood Maternity",
    "Ralph Lauren",
    "Nike",
    "adidas",
    "Under Armour",
    "Puma",
    "Reebok",
    "The North Face",
    "Patagonia",
    "Guess",
    "Billabong",
    "Rip Curl",
    "Jockey",
    "Maidenform",
    "Vanity Fair",
    "Wacoal",
    "Hugo Boss",
    "Perry Ellis",
    "Van Heusen",
    "Kenneth Cole",
    "Haggar",
    "Izod",
    "Lacoste",
    "G-Star",
    "Joe's Jeans",
    "Hudson",
    "Paige",
    "Seven7",
    "Anne Klein",
    "Jessica Simpson",
    "Betsey Johnson",
    "BCBGMAXAZRIA",
    "Ella Moss",
    "Free People",
    "Steve Madden",
    "Fossil",
    "Timex",
    "Oakley",
    "Ray-Ban",
    "Burton",
    "Spyder",
    "Marmot",
    "Woolrich",
    "Pendleton",
)
ADJECTIVES = (
    "Classic",
    "Slim Fit",
    "Relaxed",
    "Vintage",
    "Essential",
    "Premium",
    "Stretch",
    "Cotton",
    "Striped",
    "Solid",
    "Lightweight",
    "Heavyweight",
    "Soft",
    "Printed",
    "Everyday",
    "Signature",
    "Performance",
    "Organic",
    "Modern",
    "Casual",
)
NOUNS = {
    "Tops & Tees": ("Crew Neck Tee", "V-Neck T-Shirt", "Tank Top", "Polo Shirt", "Henley"),
    "Sweaters": ("Cardigan", "Pullover Sweater", "Cashmere Sweater", "Turtleneck"),
    "Fashion Hoodies & Sweatshirts": ("Zip Hoodie", "Pullover Hoodie", "Fleece Sweatshirt"),
    "Active": ("Training Pant", "Running Short", "Sports Bra", "Track Jacket", "Yoga Top"),
    "Dresses": ("Maxi Dress", "Wrap Dress", "Shift Dress", "Cocktail Dress"),
    "Jumpsuits & Rompers": ("Romper", "Jumpsuit", "Playsuit"),
    "Jeans": ("Skinny Jean", "Bootcut Jean", "Straight Leg Jean", "Boyfriend Jean"),
    "Pants & Capris": ("Capri Pant", "Trouser", "Cropped Pant"),
    "Leggings": ("Legging", "Jegging", "Footless Tight"),
    "Shorts": ("Cargo Short", "Chino Short", "Denim Short", "Boardshort"),
    "Skirts": ("Pencil Skirt", "A-Line Skirt", "Mini Skirt"),
    "Blazers & Jackets": ("Blazer", "Denim Jacket", "Moto Jacket"),
    "Clothing Sets": ("Two-Piece Set", "Lounge Set"),
    "Suits": ("Pant Suit", "Skirt Suit"),
    "Outerwear & Coats": ("Peacoat", "Parka", "Down Jacket", "Trench Coat", "Vest"),
    "Socks & Hosiery": ("Crew Sock", "Tights", "Knee High Sock"),
    "Sleep & Lounge": ("Pajama Set", "Robe", "Lounge Pant", "Nightgown"),
    "Intimates": ("Bra", "Bikini Brief", "Camisole", "Shapewear Slip", "Thong"),
    "Swim": ("Bikini Top", "One-Piece Swimsuit", "Swim Trunk", "Tankini"),
    "Accessories": ("Belt", "Scarf", "Beanie", "Wallet", "Sunglasses", "Gloves"),
    "Maternity": ("Maternity Top", "Maternity Jean", "Nursing Bra", "Maternity Dress"),
    "Plus": ("Plus Size Top", "Plus Size Tunic", "Plus Size Pant"),
    "Suits & Sport Coats": ("Sport Coat", "Two Button Suit", "Wool Blazer"),
    "Pants": ("Chino Pant", "Dress Pant", "Cargo Pant"),
    "Socks": ("Athletic Sock", "Dress Sock", "Wool Sock"),
    "Underwear": ("Boxer Brief", "Trunk", "Boxer", "Undershirt"),
}
DISTRIBUTION_CENTERS = (
    (1, "Memphis TN", 35.1174, -89.9711),
    (2, "Chicago IL", 41.8369, -87.6847),
    (3, "Houston TX", 29.7604, -95.3698),
    (4, "Los Angeles CA", 34.05, -118.25),
    (5, "New Orleans LA", 29.95, -90.0667),
    (6, "Port Authority of New York/New Jersey NY/NJ", 40.634, -73.7834),
    (7, "Philadelphia PA", 39.95, -75.1667),
    (8, "Mobile AL", 30.6944, -88.0431),
    (9, "Charleston SC", 32.7833, -79.9333),
    (10, "Savannah GA", 32.0167, -81.1167),
)
# share of thelook's products stocked by each distribution center
DC_WEIGHTS = (3891, 3929, 3667, 2761, 2112, 2572, 2669, 2919, 2719, 1881)

# country: (weight, ((city, state, postal_code, latitude, longitude), ...))
LOCATIONS = {
    "China": (
        0.340,
        (
            ("Shanghai", "Shanghai", "200000", 31.23, 121.47),
            ("Beijing", "Beijing", "100000", 39.90, 116.41),
            ("Guangzhou", "Guangdong", "510000", 23.13, 113.26),
            ("Shenzhen", "Guangdong", "518000", 22.54, 114.06),
            ("Wuhan", "Hubei", "430000", 30.59, 114.31),
            ("Chengdu", "Sichuan", "610000", 30.57, 104.07),
            ("Hangzhou", "Zhejiang", "310000", 30.27, 120.16),
            ("Zhengzhou", "Henan", "450000", 34.75, 113.63),
            ("Dongguan", "Guangdong", "523000", 23.02, 113.75),
            ("Nanjing", "Jiangsu", "210000", 32.06, 118.80),
        ),
    ),
    "United States": (
        0.220,
        (
            ("New York", "New York", "10001", 40.71, -74.01),
            ("Los Angeles", "California", "90001", 34.05, -118.24),
            ("Chicago", "Illinois", "60601", 41.88, -87.63),
            ("Houston", "Texas", "77001", 29.76, -95.37),
            ("Phoenix", "Arizona", "85001", 33.45, -112.07),
            ("Philadelphia", "Pennsylvania", "19019", 39.95, -75.17),
            ("Garden Grove", "California", "92844", 33.77, -117.97),
            ("Seattle", "Washington", "98101", 47.61, -122.33),
            ("Miami", "Florida", "33101", 25.76, -80.19),
            ("Denver", "Colorado", "80201", 39.74, -104.99),
        ),
    ),
    "Brasil": (
        0.145,
        (
            ("São Paulo", "São Paulo", "01000-000", -23.55, -46.63),
            ("Rio de Janeiro", "Rio de Janeiro", "20000-000", -22.91, -43.17),
            ("Garanhuns", "Pernambuco", "55290-000", -8.89, -36.49),
            ("Salvador", "Bahia", "40000-000", -12.97, -38.50),
            ("Curitiba", "Paraná", "80000-000", -25.43, -49.27),
            ("Belo Horizonte", "Minas Gerais", "30000-000", -19.92, -43.94),
        ),
    ),
    "France": (
        0.048,
        (
            ("Paris", "Île-de-France", "75001", 48.86, 2.35),
            ("Lyon", "Auvergne-Rhône-Alpes", "69001", 45.76, 4.84),
            ("Marseille", "Provence-Alpes-Côte d'Azur", "13001", 43.30, 5.37),
            ("Toulouse", "Occitanie", "31000", 43.60, 1.44),
        ),
    ),
    "South Korea": (
        0.048,
        (
            ("Seoul", "Seoul", "04524", 37.57, 126.98),
            ("Busan", "Busan", "48058", 35.18, 129.08),
            ("Chuncheon City", "Gangwon-do", "200-160", 37.88, 127.73),
            ("Incheon", "Incheon", "22001", 37.46, 126.71),
        ),
    ),
    "Germany": (
        0.042,
        (
            ("Berlin", "Berlin", "10115", 52.52, 13.40),
            ("Munich", "Bayern", "80331", 48.14, 11.58),
            ("Hamburg", "Hamburg", "20095", 53.55, 9.99),
            ("Cologne", "Nordrhein-Westfalen", "50667", 50.94, 6.96),
        ),
    ),
    "United Kingdom": (
        0.040,
        (
            ("London", "England", "EC1A 1BB", 51.51, -0.13),
            ("Manchester", "England", "M1 1AE", 53.48, -2.24),
            ("Edinburgh", "Scotland", "EH1 1YZ", 55.95, -3.19),
            ("Cardiff", "Wales", "CF10 1EP", 51.48, -3.18),
        ),
    ),
    "Spain": (
        0.036,
        (
            ("Madrid", "Comunidad de Madrid", "28001", 40.42, -3.70),
            ("Barcelona", "Cataluña", "08001", 41.39, 2.17),
            ("Valencia", "Comunidad Valenciana", "46001", 39.47, -0.38),
            ("Sevilla", "Andalucía", "41001", 37.39, -5.98),
        ),
    ),
    "Japan": (
        0.022,
        (
            ("Tokyo", "Tokyo", "100-0001", 35.68, 139.69),
            ("Osaka", "Osaka", "530-0001", 34.69, 135.50),
            ("Nagoya", "Aichi", "450-0002", 35.18, 136.91),
        ),
    ),
    "Australia": (
        0.018,
        (
            ("Sydney", "New South Wales", "2000", -33.87, 151.21),
            ("Melbourne", "Victoria", "3000", -37.81, 144.96),
            ("Brisbane", "Queensland", "4000", -27.47, 153.03),
        ),
    ),
    "Belgium": (
        0.009,
        (
            ("Brussels", "Brussels", "1000", 50.85, 4.35),
            ("Antwerp", "Flanders", "2000", 51.22, 4.40),
        ),
    ),
    "Poland": (
        0.004,
        (
            ("Warsaw", "Mazowieckie", "00-001", 52.23, 21.01),
            ("Kraków", "Małopolskie", "30-001", 50.06, 19.94),
        ),
    ),
    "Colombia": (0.002, (("Bogotá", "Bogotá", "110111", 4.71, -74.07),)),
    "Austria": (0.001, (("Vienna", "Wien", "1010", 48.21, 16.37),)),
}
FIRST_NAMES = {
    "M": (
        "James",
        "John",
        "Robert",
        "Michael",
        "William",
        "David",
        "Richard",
        "Joseph",
        "Thomas",
        "Christopher",
        "Daniel",
        "Matthew",
        "Anthony",
        "Mark",
        "Andrew",
        "Kevin",
        "Brian",
        "Ronald",
        "Wei",
        "Jun",
        "Min-jun",
        "Lucas",
        "Gabriel",
        "Pierre",
        "Hiroshi",
        "Carlos",
    ),
    "F": (
        "Mary",
        "Patricia",
        "Jennifer",
        "Linda",
        "Elizabeth",
        "Barbara",
        "Susan",
        "Jessica",
        "Sarah",
        "Karen",
        "Lisa",
        "Nancy",
        "Betty",
        "Sandra",
        "Ashley",
        "Emily",
        "Michelle",
        "Amanda",
        "Li",
        "Mei",
        "Seo-yeon",
        "Ana",
        "Julia",
        "Camille",
        "Yuki",
        "Sofia",
    ),
}
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Young",
    "Green",
    "Figueroa",
    "Wang",
    "Zhang",
    "Kim",
    "Park",
    "Silva",
    "Santos",
    "Dubois",
    "Müller",
    "Tanaka",
    "Nguyen",
)
STREET_SUFFIXES = ("Street", "Avenue", "Road", "Lane", "Way", "Grove", "Bypass", "Mills", "Pass", "Court")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# marketing: per-platform economics


@dataclass(frozen=True)
class Platform:
    name: str
    source: str  # the events.traffic_source whose sessions its clicks follow
    clicks_per_session: float  # clicks recorded by the platform per session it brings
    ctr: float  # clicks / impressions
    cpc: float  # spend / click
    campaigns: tuple[tuple[str, float], ...]  # (kind, weight); the first is always on


PLATFORMS = (
    Platform("Google", "Adwords", 1.4, 0.045, 2.15, (("brand", 0.35), ("search", 0.40), ("shopping", 0.25))),
    Platform(
        "Facebook",
        "Facebook",
        2.6,
        0.012,
        3.05,
        (("retargeting", 0.40), ("prospecting", 0.35), ("lookalike", 0.25)),
    ),
    Platform("YouTube", "YouTube", 3.0, 0.006, 1.80, (("awareness", 0.55), ("consideration", 0.45))),
    Platform(
        "Email",
        "Email",
        1.1,
        0.030,
        0.97,
        (("newsletter", 0.40), ("promo", 0.35), ("winback", 0.15), ("abandoned_cart", 0.10)),
    ),
)
EXPECTED_ROAS = {"Email": (8, 15), "Google": (3, 5), "YouTube": (1.5, 3), "Facebook": (1, 2)}
